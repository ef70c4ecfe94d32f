"""Speed and quality benchmarks (`make bench-*`); the library never imports this package."""
