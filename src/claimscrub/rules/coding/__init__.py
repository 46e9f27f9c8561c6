"""COD: HCPCS code validity and code-to-product match."""
