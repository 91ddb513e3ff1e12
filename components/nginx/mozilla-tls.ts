// Mozilla's "intermediate" server-side TLS profile for nginx (ssl-config.mozilla.org, guideline
// 5.7): TLS 1.2 and 1.3, these ciphers for TLS 1.2, the client chooses, the RFC 7919 ffdhe2048
// group for the DHE suites, no session tickets, HSTS.

export const MOZILLA_INTERMEDIATE = {
  protocols: ["TLSv1.2", "TLSv1.3"],
  ciphers: [
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-GCM-SHA256",
    "DHE-RSA-AES256-GCM-SHA384",
    "DHE-RSA-CHACHA20-POLY1305",
  ],
  preferServerCiphers: false,
  sessionTimeout: "1d",
  sessionCache: "shared:MozSSL:10m",
  sessionTickets: false,
} as const;

/** RFC 7919 ffdhe2048 (public, fixed parameters; the file Mozilla's generator links to). */
export const FFDHE2048_PEM = `-----BEGIN DH PARAMETERS-----
MIIBCAKCAQEA//////////+t+FRYortKmq/cViAnPTzx2LnFg84tNpWp4TZBFGQz
+8yTnc4kmz75fS/jY2MMddj2gbICrsRhetPfHtXV/WVhJDP1H18GbtCFY2VVPe0a
87VXE15/V8k1mE8McODmi3fipona8+/och3xWKE2rec1MKzKT0g6eXq8CrGCsyT7
YdEIqUuyyOP7uWrat2DX9GgdT0Kj3jlN9K5W7edjcrsZCwenyO4KbXCeAvzhzffi
7MA0BM0oNC9hkXL+nOmFg/+OTxIy7vKBg8P+OxtMb61zO7X8vC7CIAXFjvGDfRaD
ssbzSibBsu/6iGtCOGEoXJf//////////wIBAg==
-----END DH PARAMETERS-----
`;
