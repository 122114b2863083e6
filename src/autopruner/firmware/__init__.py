"""Stage 5, firmware: hls4ml projects, bit-accurate emulation, synthesis reports and the resource trade-off."""
