package io.periscope.protocols.testing;

import io.periscope.protocols.ProtocolConfig;
import io.periscope.protocols.RequestLog;

import java.nio.file.Path;

/** Prints what the engine makes of a capture: {@code java ... CorpusDump file.pcap}. A debugging aid. */
public final class CorpusDump {
    private CorpusDump() {
    }

    public static void main(String[] args) throws Exception {
        for (String a : args) {
            System.out.println("== " + a);
            for (RequestLog l : PcapReplay.replay(Path.of(a), ProtocolConfig.builder().obfuscate(false).build())) {
                System.out.println("  " + l.protocol() + " m=" + l.method() + " r=" + l.resource() + " host=" + l.host()
                        + " st=" + l.statusCode() + " " + l.statusClass() + " err=" + l.errorMessage()
                        + " req=" + l.requestBytes() + " resp=" + l.responseBytes() + " ep=" + l.endpoint());
            }
        }
    }
}
