package io.periscope.ebpf.packet;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A network interface of this network namespace as /sys/class/net describes it, and the
 * selection of interfaces to capture on (by name or glob pattern; default all up interfaces
 * except loopback).
 *
 * @param name interface name
 * @param ifindex kernel interface index
 * @param arpHardwareType ARPHRD_* (1 Ethernet, 772 loopback, 65534 none/raw IP, ...)
 * @param up IFF_UP is set
 * @param loopback IFF_LOOPBACK is set
 */
public record CaptureInterface(String name, int ifindex, int arpHardwareType, boolean up, boolean loopback) {
    /** pcap link type of Ethernet (also used by the loopback device, whose frames carry a zero Ethernet header). */
    public static final int DLT_EN10MB = LibPcap.DLT_EN10MB;
    /** pcap link type of raw IP (tun devices, ARPHRD_NONE). */
    public static final int DLT_RAW = LibPcap.DLT_RAW;

    /** ARPHRD_ETHER: Ethernet, and veth, bridges, bonds, VLAN and VXLAN devices. */
    public static final int ARPHRD_ETHER = 1;
    /** ARPHRD_LOOPBACK. */
    public static final int ARPHRD_LOOPBACK = 772;
    /** The pattern that selects every interface (the default of packet.interfaces). */
    public static final String ALL = "*";

    private static final int IFF_UP = 0x1;
    private static final int IFF_LOOPBACK = 0x8;
    private static final int ARPHRD_NONE = 65534;
    private static final int ARPHRD_RAWIP = 519;
    private static final Path SYS_CLASS_NET = Path.of("/sys/class/net");

    /** The pcap link type of frames on this interface (what the decoder must start with). */
    public int linkType() {
        return arpHardwareType == ARPHRD_NONE || arpHardwareType == ARPHRD_RAWIP ? DLT_RAW : DLT_EN10MB;
    }

    /**
     * Every Ethernet interface at once, present and future, through one socket bound to none
     * (ifindex 0); loopback too when {@code includeLoopback} (then {@link #loopback()} is true).
     */
    public static CaptureInterface any(boolean includeLoopback) {
        return new CaptureInterface("any", 0, ARPHRD_ETHER, true, includeLoopback);
    }

    /** True for {@link #any}. */
    public boolean isAny() {
        return ifindex == 0;
    }

    /** The ifindex of the loopback device (1 unless renumbered), 0 if there is none. */
    public static int loopbackIfindex() {
        for (CaptureInterface i : all()) {
            if (i.loopback()) {
                return i.ifindex();
            }
        }
        return 0;
    }

    /**
     * The captures for a packet.interfaces selection. The default {@code ['*']} becomes one
     * {@link #any} capture for every Ethernet interface (a ring per interface would cost a ring
     * per veth on a node with many pods, and miss the veths made after start) plus one capture
     * per up interface of another link type (e.g. tun/WireGuard raw IP), which the any capture
     * leaves out. Other selections are resolved by {@link #select}.
     */
    public static List<CaptureInterface> selectForCapture(List<String> patterns, boolean includeLoopback) {
        if (patterns == null || !List.of(ALL).equals(patterns)) {
            return select(patterns, includeLoopback);
        }
        List<CaptureInterface> out = new ArrayList<>();
        out.add(any(includeLoopback));
        for (CaptureInterface i : all()) {
            if (i.up() && i.arpHardwareType() != ARPHRD_ETHER && i.arpHardwareType() != ARPHRD_LOOPBACK) {
                out.add(i);
            }
        }
        return out;
    }

    /** Every interface of the current network namespace, by ifindex. */
    public static List<CaptureInterface> all() {
        List<CaptureInterface> out = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(SYS_CLASS_NET)) {
            for (Path dir : dirs) {
                try {
                    int flags = Integer.decode(Files.readString(dir.resolve("flags")).trim());
                    int ifindex = Integer.parseInt(Files.readString(dir.resolve("ifindex")).trim());
                    int type = Integer.parseInt(Files.readString(dir.resolve("type")).trim());
                    out.add(new CaptureInterface(dir.getFileName().toString(), ifindex, type, (flags & IFF_UP) != 0,
                            (flags & IFF_LOOPBACK) != 0));
                } catch (IOException | NumberFormatException e) {
                    // The interface went away while we listed it: not an error.
                    continue;
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list network interfaces in " + SYS_CLASS_NET + ": " + e, e);
        }
        out.sort(Comparator.comparingInt(CaptureInterface::ifindex));
        return out;
    }

    /**
     * Selects interfaces.
     *
     * @param patterns names or globs ("eth*", "veth?"); empty means every up interface
     * @param includeLoopback whether loopback interfaces may be selected by the empty selection
     *     (a pattern naming a loopback interface explicitly always selects it)
     * @throws IllegalArgumentException when a pattern matches nothing (names what exists)
     */
    public static List<CaptureInterface> select(List<String> patterns, boolean includeLoopback) {
        List<CaptureInterface> all = all();
        List<CaptureInterface> out = new ArrayList<>();
        if (patterns == null || patterns.isEmpty()) {
            for (CaptureInterface i : all) {
                if (i.up() && (includeLoopback || !i.loopback())) {
                    out.add(i);
                }
            }
            return out;
        }
        for (String pattern : patterns) {
            PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + pattern);
            // A glob ('*', 'eth*') means the interfaces that carry traffic: up ones, loopback only
            // when asked. An exact name is taken as given.
            boolean glob = pattern.chars().anyMatch(c -> c == '*' || c == '?' || c == '[');
            boolean matched = false;
            for (CaptureInterface i : all) {
                if (!matcher.matches(Path.of(i.name()))) {
                    continue;
                }
                matched = true;
                boolean wanted = !glob || (i.up() && (includeLoopback || !i.loopback()));
                if (wanted && !out.contains(i)) {
                    out.add(i);
                }
            }
            if (!matched) {
                throw new IllegalArgumentException("capture interface '" + pattern + "' matches no interface; have "
                        + all.stream().map(CaptureInterface::name).toList());
            }
        }
        return out;
    }

    /** The interface with this exact name. */
    public static CaptureInterface byName(String name) {
        for (CaptureInterface i : all()) {
            if (i.name().equals(name)) {
                return i;
            }
        }
        throw new IllegalArgumentException("no network interface named '" + name + "'");
    }
}
