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
    private static final Pattern BASE64_IDS = Pattern.compile(
            "\"(traceId|spanId|parentSpanId)\":\"([A-Za-z0-9+/=]*)\"");
    private static final Pattern HEX_IDS = Pattern.compile("\"(traceId|spanId|parentSpanId)\":\"([0-9a-fA-F]*)\"");
    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().omittingInsignificantWhitespace()
            .printingEnumsAsInts();
    private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();

    private OtlpJson() {
    }

    /** One line of OTLP/JSON (no newline) for an Export*ServiceRequest. */
    public static String print(Message request) throws InvalidProtocolBufferException {
        String json = PRINTER.print(request);
        Matcher m = BASE64_IDS.matcher(json);
        return m.replaceAll(r -> "\"" + r.group(1) + "\":\""
                + HexFormat.of().formatHex(Base64.getDecoder().decode(r.group(2))) + "\"");
    }

    /** Parses one line of OTLP/JSON into {@code builder} (hex ids, int or named enums). */
    public static void parse(String line, Message.Builder builder) throws InvalidProtocolBufferException {
        Matcher m = HEX_IDS.matcher(line);
        String json = m.replaceAll(r -> "\"" + r.group(1) + "\":\""
                + Base64.getEncoder().encodeToString(HexFormat.of().parseHex(r.group(2))) + "\"");
        PARSER.merge(json, builder);
    }
}
