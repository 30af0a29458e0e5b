"""The synthetic market as a live source: the simulator in `synth/`, paced in real time."""
