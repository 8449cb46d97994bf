import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * ShallowFloor's pair (bench/src/main/java/io/periscope/bench/protocols/ShallowFloor.java) with the
 * two head scans done 32 bytes at a time by the Vector API: what SIMD would leave of the scalar
 * floor. A probe, not part of the build (the module is incubating: javac warns, and the build
 * turns warnings into errors). Fast only where the JDK intrinsifies VectorMask.toLong (JDK 17
 * does not: ~10x slower than scalar there). Run it on JDK 25:
 *
 *   /usr/lib/jvm/temurin-25-jdk-amd64/bin/java -Dpairs.rounds=40 -Dpairs.perRound=250000 \
 *       --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar \
 *       bench/floor/ShallowFloorVector.java [PAIR|HEADS]
 */
public final class ShallowFloorVector {
    /** The benchmark's own pair (ProtocolEngineBenchmark.HTTP_REQUEST / HTTP_RESPONSE), from the jar. */
    static final byte[] REQUEST = benchmarkBytes("HTTP_REQUEST");
    static final byte[] RESPONSE = benchmarkBytes("HTTP_RESPONSE");
    static final VectorSpecies<Byte> S = ByteVector.SPECIES_256;
    static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    static final long LOWER = 0x2020202020202020L;
    static final long CONTENT_DASH = word("content-");
    static final long TRANSFER = word("transfer");
    static final long SEVEN_BYTES = 0x00FF_FFFF_FFFF_FFFFL;
    static final long HTTP_1_DOT = word("HTTP/1.");

    final byte[] request = Arrays.copyOf(REQUEST, REQUEST.length + 64);
    final byte[] response = Arrays.copyOf(RESPONSE, RESPONSE.length + 64);
    long contentLength;
    boolean chunked;
    int status;
    long requestBytes;
    long responseBytes;

    void pair() {
        long w = (long) LONGS.get(request, 0);
        if ((w & 0xFFFF_FFFFL) != (word("GET ") & 0xFFFF_FFFFL)) {
            throw new IllegalStateException();
        }
        int lf = lineFeed(request, 4);
        if (((long) LONGS.get(request, lf - 9) & SEVEN_BYTES) != HTTP_1_DOT) {
            throw new IllegalStateException();
        }
        requestBytes = head(request, lf + 1) + Math.max(0, contentLength);
        if (((long) LONGS.get(response, 0) & SEVEN_BYTES) != HTTP_1_DOT) {
            throw new IllegalStateException();
        }
        status = (response[9] - '0') * 100 + (response[10] - '0') * 10 + response[11] - '0';
        responseBytes = head(response, lineFeed(response, 12) + 1) + contentLength;
    }

    void heads() {
        requestBytes = head(request, 50);
        responseBytes = head(response, 17);
    }

    /** Line starts (after a '\n') whose byte is c, t or CR, 32 bytes a step. */
    int head(byte[] b, int pos) {
        contentLength = -1;
        chunked = false;
        long carry = 1;
        for (int i = pos; ; i += S.length()) {
            ByteVector v = ByteVector.fromArray(S, b, i);
            long lf = v.eq((byte) '\n').toLong();
            ByteVector lower = v.or((byte) 0x20);
            long wanted = lower.eq((byte) 'c').or(lower.eq((byte) 't')).or(v.eq((byte) '\r')).toLong();
            long starts = ((lf << 1) | carry) & wanted & 0xFFFF_FFFFL;
            carry = lf >>> 31;
            while (starts != 0) {
                int at = i + Long.numberOfTrailingZeros(starts);
                starts &= starts - 1;
                if (b[at] == '\r') {
                    return at + 2;
                }
                framingLine(b, at);
            }
        }
    }

    void framingLine(byte[] b, int at) {
        long w = (long) LONGS.get(b, at) | LOWER;
        if (w == CONTENT_DASH && (b[at + 8] | 0x20) == 'l' && b[at + 14] == ':') {
            int v = at + 15;
            while (b[v] == ' ') {
                v++;
            }
            long n = 0;
            for (byte d = b[v]; d >= '0' && d <= '9'; d = b[++v]) {
                n = n * 10 + d - '0';
            }
            contentLength = n;
        } else if (w == TRANSFER && b[at + 17] == ':') {
            chunked = true;
        }
    }

    static int lineFeed(byte[] b, int from) {
        for (int i = from; ; i++) {
            if (b[i] == '\n') {
                return i;
            }
        }
    }

    static byte[] benchmarkBytes(String field) {
        try {
            java.lang.reflect.Field f = Class.forName("io.periscope.bench.protocols.ProtocolEngineBenchmark")
                    .getDeclaredField(field);
            f.setAccessible(true);
            return (byte[]) f.get(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("run with -cp bench/target/benchmarks.jar (mvn -pl bench -am package)", e);
        }
    }

    static long word(String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        long w = 0;
        for (int i = b.length - 1; i >= 0; i--) {
            w = (w << 8) | (b[i] & 0xFF);
        }
        return w;
    }

    public static void main(String[] args) {
        ShallowFloorVector f = new ShallowFloorVector();
        f.pair();
        if (f.requestBytes != REQUEST.length || f.responseBytes != RESPONSE.length || f.status != 200) {
            throw new IllegalStateException("wrong parse: " + f.requestBytes + " " + f.responseBytes + " " + f.status);
        }
        String scenario = args.length == 0 ? "PAIR" : args[0];
        Runnable op = scenario.equals("HEADS") ? f::heads : f::pair;
        double best = io.periscope.bench.protocols.PairCpuTime.bestCpuNanos(op, 3_000_000);
        System.out.printf("%s (Vector API, %d-byte vectors, Java %s) %.1f ns CPU (%s)%n",
                scenario, S.length(), Runtime.version().feature(), best,
                io.periscope.bench.protocols.PairCpuTime.roundsDescription());
    }
}
