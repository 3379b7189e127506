"""TensorKart emulator frontend: mupen64plus driven through its C API."""
