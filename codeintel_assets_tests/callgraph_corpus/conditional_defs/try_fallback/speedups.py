"""An optional accelerated implementation: importing it fails here, as a missing C extension
would."""
raise ImportError("no compiled speedups in this build")
