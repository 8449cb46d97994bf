package io.periscope.protocols;

import org.agrona.DirectBuffer;

/**
 * What the SQL parsers (MySQL, PostgreSQL) write alike into a request's record: the statement
 * and the database the connection works in.
 */
public final class SqlRecord {
    /** Attribute: the database of the connection (also the record's host). */
    public static final String DB_NAMESPACE = "db.namespace";

    private SqlRecord() {
    }

    /**
     * The statement's first keyword as method and, unless the protocol is shallow, its text as
     * resource (literals replaced by {@code ?} when the connection obfuscates).
     */
    public static void statement(Connection conn, RequestLog log, DirectBuffer buf, int from, int length) {
        SqlText.keyword(buf, from, length, log.method());
        if (!conn.shallow()) {
            SqlText.write(buf, from, length, log.resource(), conn.obfuscate());
        }
    }

    /** The connection's database, when known, as the record's host and {@link #DB_NAMESPACE}. */
    public static void database(RequestLog log, TextField database) {
        if (database.isEmpty()) {
            return;
        }
        log.host().copyFrom(database);
        TextField db = log.addAttribute(DB_NAMESPACE);
        if (db != null) {
            db.copyFrom(database);
        }
    }
}
