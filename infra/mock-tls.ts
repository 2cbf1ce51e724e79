/**
 * TEST DOUBLE material for the tls provider's mock outputs (infra/mock-monitor.ts): one fixed P-256 key pair, its
 * self-signed certificate (CN mock-gateway.autopilot.invalid, valid for 100 years) and a certificate request,
 * made once with `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1`. Real PEM, so a
 * `kubernetes.io/tls` Secret rendered under the mocks is what a kube-apiserver accepts without a warning; fixed,
 * so the offline evaluation is deterministic. Never used outside the mocks.
 */
export const MOCK_PRIVATE_KEY_PEM = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgeu2rJxayT5PSYWIA
QK8WCKGAP/UeWJrxIaM+7f/PjGWhRANCAAQing36AwCFFl5wEBa1rBzeNTINUOgs
IuZr7SXqaYjrXHYlh/vuemUGyuzWgFgvYyvsDEwl75PkYyYjX5CGnTSN
-----END PRIVATE KEY-----
`;

export const MOCK_CERT_PEM = `-----BEGIN CERTIFICATE-----
MIIBqjCCAU+gAwIBAgIUYHlc5JxUTpOzm8urR6t1yl05xt0wCgYIKoZIzj0EAwIw
KTEnMCUGA1UEAwwebW9jay1nYXRld2F5LmF1dG9waWxvdC5pbnZhbGlkMCAXDTI2
MTIwMzEzMDc1MFoYDzIxMjYxMTA5MTMwNzUwWjApMScwJQYDVQQDDB5tb2NrLWdh
dGV3YXkuYXV0b3BpbG90LmludmFsaWQwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC
AAQing36AwCFFl5wEBa1rBzeNTINUOgsIuZr7SXqaYjrXHYlh/vuemUGyuzWgFgv
YyvsDEwl75PkYyYjX5CGnTSNo1MwUTAdBgNVHQ4EFgQUmEl7GPgC/MaJanm6+qIG
ZQNOtfcwHwYDVR0jBBgwFoAUmEl7GPgC/MaJanm6+qIGZQNOtfcwDwYDVR0TAQH/
BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEA+sP/J54EK/xpQWpB7SPbJ3mlYoXd
7RWmmuLIDNZpdiMCIQCNwWSnZaUCM0UvSp9Il8xBv497oOrZtzyT67DHFDkGjg==
-----END CERTIFICATE-----
`;

export const MOCK_CERT_REQUEST_PEM = `-----BEGIN CERTIFICATE REQUEST-----
MIHJMHECAQAwDzENMAsGA1UEAwwEbW9jazBZMBMGByqGSM49AgEGCCqGSM49AwEH
A0IABCKeDfoDAIUWXnAQFrWsHN41Mg1Q6Cwi5mvtJeppiOtcdiWH++56ZQbK7NaA
WC9jK+wMTCXvk+RjJiNfkIadNI2gADAKBggqhkjOPQQDAgNIADBFAiEA4eX/Cnqv
ydQhX44BrAnln/gRwHz4KjCPhqZD5DNrMGoCIE2JJolftn4mTbbImAcLyn1AkjkN
pvvEQ3dsHqaAQ3yy
-----END CERTIFICATE REQUEST-----
`;
