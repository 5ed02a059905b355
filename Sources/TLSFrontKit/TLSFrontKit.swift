// TLSFrontKit: filled in by issue 4; see docs/architecture.md.
