/** A real (self-signed, throwaway) certificate for Pulumi mocks: renderers that read a certificate (monitoring/hostMetrics.ts) need one that parses. */
export const FIXTURE_CERT_PEM = `-----BEGIN CERTIFICATE-----
MIIBuzCCAWGgAwIBAgIUQyhgb0mVToq67XyNpGlrb7ADJ/kwCgYIKoZIzj0EAwIw
MzEUMBIGA1UECgwLZXRjZC1wdWx1bWkxGzAZBgNVBAMMEmdyYXBoLXRlc3QgZml4
dHVyZTAeFw0yNjEyMDExMzI4MTFaFw0zNjExMjgxMzI4MTFaMDMxFDASBgNVBAoM
C2V0Y2QtcHVsdW1pMRswGQYDVQQDDBJncmFwaC10ZXN0IGZpeHR1cmUwWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAAT5xoQoYhpszBSNLk0xXvQJj8e2u0R4MC8ySF9X
TZyxrA7IL903tXaKKQqSsNDBkkscDKXS4XkT2KZjnVfBGMyHo1MwUTAdBgNVHQ4E
FgQUUgO5Pki+asa/qcovOOZYBufNOIIwHwYDVR0jBBgwFoAUUgO5Pki+asa/qcov
OOZYBufNOIIwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEAiFqw
FcRbFO70NBsk6IdyyNCIjbUiMdQY8kPys+94TMwCIEkJ3yNtxQ4oHVOjZLai13SX
+sw8yzN4KWhYQxPVzq98
-----END CERTIFICATE-----`;
