"""Tests of the emulator frontend (services/emulator) through the real mupen64plus core."""
