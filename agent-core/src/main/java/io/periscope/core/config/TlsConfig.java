package io.periscope.core.config;

/** TLS towards the OTLP collector; files are PEM. Empty paths mean "not given". */
public record TlsConfig(boolean enabled, String caFile, String certFile, String keyFile,
                        boolean insecureSkipVerify) {
    public TlsConfig {
        if (certFile.isEmpty() != keyFile.isEmpty()) {
            throw new ConfigValueException(certFile.isEmpty() ? "cert_file" : "key_file",
                    "cert_file and key_file go together (client certificate); set both or neither");
        }
    }

    /** Plain-text gRPC. */
    public static TlsConfig defaults() {
        return new TlsConfig(false, "", "", "", false);
    }
}
