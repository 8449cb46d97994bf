package io.periscope.protocols;

/** The application protocols periscope recognises. */
public enum L7Protocol {
    UNKNOWN,
    HTTP1,
    HTTP2,
    GRPC,
    DNS,
    REDIS,
    MYSQL,
    POSTGRESQL,
    KAFKA,
    MQTT,
    MEMCACHED,
    MONGODB,
    AMQP,
    NATS,
    DUBBO,
    TLS
}
