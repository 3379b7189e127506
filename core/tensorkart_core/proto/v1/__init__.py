"""Generated protobuf and gRPC code for tensorkart.v1 (do not edit)."""
