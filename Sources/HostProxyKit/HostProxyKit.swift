// HostProxyKit: filled in by issue 7; see docs/architecture.md.
