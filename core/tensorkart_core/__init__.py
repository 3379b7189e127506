"""TensorKart's shared package: what every service needs and nothing more.

Generated protobuf code (`tensorkart_core.proto.v1`), settings, logging, the
pre-processing spec, the gRPC server bootstrap and client channels, dataset layout
and model registry helpers. Services import this package, never each other.
"""

__version__ = "0.1.0"
