"""Generated protobuf / gRPC code for the tensorkart.v1 wire contract (see protos/)."""
