"""TensorKart capture service: frames + gamepad from the screen, the practice track or a replay."""
