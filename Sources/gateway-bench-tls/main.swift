// TLS handler benchmark (bench/tls-bench): handshakes per second and bulk throughput through TLSHandler.
print("gateway-bench-tls: not written yet")
