package io.periscope.sender;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;

import java.util.Base64;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * OTLP/JSON as the OpenTelemetry specification defines it (and the Collector's file exporter
 * writes and its otlpjsonfile receiver reads): the protobuf JSON mapping, except that trace and
 * span ids are hex strings instead of base64 and enums are integers.
 *
 * <p>The id fix-up works on the compact JSON text: the three id keys are unique to id fields,
 * and inside a JSON string every quote is escaped, so {@code "traceId":"} cannot match string
 * content.
 */
public final class OtlpJson {
    /** Where an id key's value starts: the end of {@code "traceId":"}, {@code "spanId":"}, ... */
    private static final String ID_VALUE_START = "Id\":\"";
    private static final String[] ID_KEYS = {"traceId", "spanId", "parentSpanId"};
    /** Length of {@code Id}: the part of each key that {@link #ID_VALUE_START} covers. */
    private static final int ID_SUFFIX_LENGTH = 2;
    private static final Pattern HEX_IDS = Pattern.compile("\"(traceId|spanId|parentSpanId)\":\"([0-9a-fA-F]*)\"");
    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().omittingInsignificantWhitespace()
            .printingEnumsAsInts();
    private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();

    private OtlpJson() {
    }

    /** One line of OTLP/JSON (no newline) for an Export*ServiceRequest. */
    public static String print(Message request) throws InvalidProtocolBufferException {
        return base64IdsToHex(PRINTER.print(request));
    }

    /**
     * Rewrites the values of the id keys from base64 to hex. A plain scan for {@code Id":"} (one
     * indexOf per id) instead of a regular expression over the whole text: the regex's alternation
     * was tried at every character and cost more than printing the JSON itself.
     */
    static String base64IdsToHex(String json) {
        StringBuilder out = null;
        int copied = 0;
        int at = json.indexOf(ID_VALUE_START);
        while (at >= 0) {
            int valueStart = at + ID_VALUE_START.length();
            int valueEnd = json.indexOf('"', valueStart);
            if (valueEnd < 0) {
                break;
            }
            if (isIdKey(json, at)) {
                if (out == null) {
                    out = new StringBuilder(json.length() + json.length() / 8);
                }
                out.append(json, copied, valueStart);
                out.append(HexFormat.of().formatHex(Base64.getDecoder().decode(json.substring(valueStart, valueEnd))));
                copied = valueEnd;
            }
            at = json.indexOf(ID_VALUE_START, valueEnd);
        }
        if (out == null) {
            return json;
        }
        return out.append(json, copied, json.length()).toString();
    }

    /** Whether the key ending at {@code idAt} (where {@code Id":"} starts) is one of the three id keys. */
    private static boolean isIdKey(String json, int idAt) {
        for (String key : ID_KEYS) {
            int keyStart = idAt + ID_SUFFIX_LENGTH - key.length();
            if (keyStart >= 1 && json.charAt(keyStart - 1) == '"' && json.startsWith(key, keyStart)) {
                return true;
            }
        }
        return false;
    }

    /** Parses one line of OTLP/JSON into {@code builder} (hex ids, int or named enums). */
    public static void parse(String line, Message.Builder builder) throws InvalidProtocolBufferException {
        Matcher m = HEX_IDS.matcher(line);
        String json = m.replaceAll(r -> "\"" + r.group(1) + "\":\""
                + Base64.getEncoder().encodeToString(HexFormat.of().parseHex(r.group(2))) + "\"");
        PARSER.merge(json, builder);
    }
}
