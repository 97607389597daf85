//! Root package: owns the workspace-wide tests, examples and benchmarks (see README.md).
