package io.periscope.ebpf.packet;

import java.util.Map;

import com.sun.jna.FunctionMapper;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * libpcap (Debian libpcap0.8), used only to compile tcpdump filter expressions to classic BPF.
 * Java names map to the C names by camelCase to snake_case ({@code pcapOpenDead} is {@code pcap_open_dead}).
 */
interface LibPcap extends Library {
    /** Debian's soname; "pcap" as a fallback for other layouts. */
    String[] NAMES = {"libpcap.so.0.8", "libpcap.so.1", "pcap"};

    int DLT_EN10MB = 1;
    int DLT_RAW = 12;
    int PCAP_NETMASK_UNKNOWN = 0xFFFFFFFF;

    /** camelCase Java method names to the snake_case C symbols. */
    FunctionMapper SNAKE_CASE = (library, method) -> method.getName().replaceAll("([A-Z])", "_$1").toLowerCase();

    Pointer pcapOpenDead(int linktype, int snaplen);

    int pcapCompile(Pointer pcap, Pointer program, String expression, int optimize, int netmask);

    void pcapFreecode(Pointer program);

    String pcapGeterr(Pointer pcap);

    void pcapClose(Pointer pcap);

    static LibPcap load() {
        UnsatisfiedLinkError last = null;
        for (String name : NAMES) {
            try {
                return Native.load(name, LibPcap.class, Map.of(Library.OPTION_FUNCTION_MAPPER, SNAKE_CASE));
            } catch (UnsatisfiedLinkError e) {
                last = e;
            }
        }
        throw new IllegalStateException("libpcap not found (install the Debian package libpcap0.8): "
                + (last == null ? "" : last.getMessage()), last);
    }
}
