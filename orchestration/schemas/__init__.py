"""pandera models of the raw entities: the input contract of raw/, enforced."""
