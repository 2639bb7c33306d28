"""DNS lookups for delivery and sender authentication: `resolver.Resolver` (MX with null and implicit MX, A/AAAA, TXT,
raw records) on dnspython's asyncio resolver, pointed at `dns.nameservers`. NXDOMAIN/NODATA are empty answers;
failures that may pass raise `TemporaryFailure`."""
