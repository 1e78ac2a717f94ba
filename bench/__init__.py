"""The benchmark suite: scripts run on their own (not by make test), and the settings,
URLs and baseline view that only the benchmark's server mounts."""
