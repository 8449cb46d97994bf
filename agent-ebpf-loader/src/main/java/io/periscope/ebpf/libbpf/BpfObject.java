package io.periscope.ebpf.libbpf;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import io.periscope.ebpf.internal.LibBpf;
import io.periscope.ebpf.internal.LibBpfLog;

import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One BPF ELF object opened by libbpf from bytes: set constants and map sizes, {@link #load()},
 * find programs and maps, attach. Closing detaches every link made through it (newest first),
 * then frees the object, so a failure half-way leaves nothing attached.
 */
public final class BpfObject implements AutoCloseable {
    /** Verifier log kept on a load failure; kernels >= 6.4 keep the log's tail when it overflows. */
    private static final int VERIFIER_LOG_BYTES = 1 << 20;
    private static final int VERIFIER_LOG_TAIL_LINES = 25;
    private static final int BTF_KIND_DATASEC = 15;
    private static final int BTF_KIND_STRUCT = 4;
    private static final int EPERM = 1;
    private static final int BTF_MEMBER_BYTES = 12;
    private static final int BTF_KIND_FLAG_SHIFT = 31;
    private static final int BTF_MEMBER_BIT_OFFSET_MASK = 0xffffff;
    private static final int BTF_TYPE_BYTES = 12;
    private static final int BTF_VAR_SECINFO_BYTES = 12;
    private static final int BTF_VLEN_MASK = 0xffff;
    private static final Pattern FAILED_PROGRAM = Pattern.compile("prog '([^']+)': failed to load");

    /** Offsets in {@code struct bpf_object_open_opts} (libbpf 1.1, x86_64). */
    private static final int OPEN_OPTS_BYTES = 80;
    private static final int OPEN_OPTS_OBJECT_NAME = 8;
    private static final int OPEN_OPTS_LOG_BUF = 56;
    private static final int OPEN_OPTS_LOG_SIZE = 64;
    private static final int OPEN_OPTS_LOG_LEVEL = 72;

    private final String name;
    private final Memory elf;
    private final Memory objectName;
    private Memory logBuf;
    private Pointer obj;
    private boolean loaded;
    private final List<BpfLink> links = new ArrayList<>();

    private BpfObject(String name, Memory elf, Memory objectName, Memory logBuf, Pointer obj) {
        this.name = name;
        this.elf = elf;
        this.objectName = objectName;
        this.logBuf = logBuf;
        this.obj = obj;
    }

    /**
     * Opens (parses, does not load) an object.
     *
     * @param name the object's name in errors and in libbpf's map names
     * @param elfBytes the compiled {@code .bpf.o}
     */
    public static BpfObject open(String name, byte[] elfBytes) {
        LibBpf.ensureAvailable();
        Memory elf = new Memory(elfBytes.length);
        elf.write(0, elfBytes, 0, elfBytes.length);
        Memory objectName = new Memory(name.length() + 1L);
        objectName.setString(0, name, StandardCharsets.US_ASCII.name());
        Memory logBuf = new Memory(VERIFIER_LOG_BYTES);
        logBuf.setByte(0, (byte) 0);
        Memory opts = new Memory(OPEN_OPTS_BYTES);
        opts.clear();
        opts.setLong(0, OPEN_OPTS_BYTES);
        opts.setPointer(OPEN_OPTS_OBJECT_NAME, objectName);
        opts.setPointer(OPEN_OPTS_LOG_BUF, logBuf);
        opts.setLong(OPEN_OPTS_LOG_SIZE, VERIFIER_LOG_BYTES);
        // Level 0: no log on success; libbpf retries a failed load with level 1 into our buffer.
        opts.setInt(OPEN_OPTS_LOG_LEVEL, 0);
        LibBpfLog.drain();
        Pointer obj = LibBpf.bpfObjectOpenMem(elf, elfBytes.length, opts);
        if (obj == null) {
            int errno = Native.getLastError();
            throw new BpfException("cannot open BPF object " + name + ": " + LibBpf.strerror(errno)
                    + libbpfSays() + "; the embedded object is corrupt or was built for another libbpf: rebuild");
        }
        return new BpfObject(name, elf, objectName, logBuf, obj);
    }

    /** The object's name. */
    public String name() {
        return name;
    }

    /**
     * Sets a {@code const volatile} (in .rodata) or global (in .bss/.data) variable before load.
     *
     * @param variable the C variable's name
     * @param value its bytes, exactly the variable's size, in host (little-endian) order
     */
    public void setVariable(String variable, byte[] value) {
        ensureOpen();
        if (loaded) {
            throw new IllegalStateException("set " + variable + " before load(): .rodata is frozen once loaded");
        }
        Pointer btf = LibBpf.bpfObjectBtf(obj);
        if (btf == null) {
            throw new BpfException(name + " has no BTF; build it with clang -g");
        }
        for (String section : new String[] {".rodata", ".bss", ".data"}) {
            int secId = LibBpf.btfFindByNameKind(btf, section, BTF_KIND_DATASEC);
            if (secId <= 0) {
                continue;
            }
            Pointer sec = LibBpf.btfTypeById(btf, secId);
            int vlen = sec.getInt(4) & BTF_VLEN_MASK;
            for (int i = 0; i < vlen; i++) {
                long at = BTF_TYPE_BYTES + (long) i * BTF_VAR_SECINFO_BYTES;
                int varType = sec.getInt(at);
                int offset = sec.getInt(at + 4);
                int size = sec.getInt(at + 8);
                Pointer var = LibBpf.btfTypeById(btf, varType);
                if (!variable.equals(LibBpf.btfNameByOffset(btf, var.getInt(0)))) {
                    continue;
                }
                if (size != value.length) {
                    throw new IllegalArgumentException(variable + " is " + size + " bytes in " + name
                            + ", given " + value.length);
                }
                BpfMap map = map(section);
                long[] mapSize = new long[1];
                Pointer data = LibBpf.bpfMapInitialValue(map.handle(), mapSize);
                if (data == null || offset + size > mapSize[0]) {
                    throw new BpfException("cannot write " + variable + " into " + section + " of " + name);
                }
                data.write(offset, value, 0, size);
                return;
            }
        }
        throw new IllegalArgumentException("no global variable " + variable + " in " + name);
    }

    /**
     * Byte offsets of the members of {@code struct structName} as compiled into this object (from
     * its BTF), in declaration order, with the struct's size under the key {@code "sizeof"}: lets
     * Java flyweights be checked against the C layout they mirror.
     */
    public Map<String, Integer> structLayout(String structName) {
        ensureOpen();
        Pointer btf = LibBpf.bpfObjectBtf(obj);
        int id = btf == null ? -1 : LibBpf.btfFindByNameKind(btf, structName, BTF_KIND_STRUCT);
        if (id <= 0) {
            throw new IllegalArgumentException("no struct " + structName + " in the BTF of " + name);
        }
        Pointer type = LibBpf.btfTypeById(btf, id);
        int info = type.getInt(4);
        int vlen = info & BTF_VLEN_MASK;
        boolean bitfieldEncoding = (info >>> BTF_KIND_FLAG_SHIFT) != 0;
        Map<String, Integer> layout = new LinkedHashMap<>();
        for (int i = 0; i < vlen; i++) {
            long at = BTF_TYPE_BYTES + (long) i * BTF_MEMBER_BYTES;
            int bits = type.getInt(at + 8);
            if (bitfieldEncoding) {
                bits &= BTF_MEMBER_BIT_OFFSET_MASK;
            }
            layout.put(LibBpf.btfNameByOffset(btf, type.getInt(at)), bits / Byte.SIZE);
        }
        layout.put("sizeof", type.getInt(8));
        return layout;
    }

    /** Sets a 32-bit variable before load. */
    public void setInt(String variable, int value) {
        byte[] b = new byte[Integer.BYTES];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (value >>> (8 * i));
        }
        setVariable(variable, b);
    }

    /** Sets a 64-bit variable before load. */
    public void setLong(String variable, long value) {
        byte[] b = new byte[Long.BYTES];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (value >>> (8 * i));
        }
        setVariable(variable, b);
    }

    /**
     * Loads every autoload program and creates the maps.
     *
     * @throws BpfLoadException naming the rejected program with the verifier log's last lines
     */
    public void load() {
        ensureOpen();
        if (loaded) {
            return;
        }
        LibBpfLog.drain();
        int err = LibBpf.bpfObjectLoad(obj);
        if (err != 0) {
            List<String> libbpf = LibBpfLog.drain();
            String prog = failedProgram(libbpf);
            List<String> log = tail(logBuf.getString(0, StandardCharsets.US_ASCII.name()));
            String where = prog.isEmpty() ? "object " + name : "program " + prog + " of " + name;
            StringBuilder msg = new StringBuilder("kernel refused to load ").append(where).append(": ")
                    .append(LibBpf.strerror(err));
            if (!log.isEmpty()) {
                msg.append("; verifier log (last lines):\n  ").append(String.join("\n  ", log));
            } else if (!libbpf.isEmpty()) {
                msg.append("; libbpf: ").append(String.join(" | ", libbpf));
            }
            if (err == -EPERM && log.isEmpty()) {
                msg.append("\nfix: run as root or grant CAP_BPF and CAP_PERFMON (CAP_SYS_ADMIN on kernels < 5.8)");
            } else {
                msg.append("\nfix: the program does not fit this kernel's verifier or facilities; check "
                        + "`periscope check` and report the log above");
            }
            throw new BpfLoadException(msg.toString(), prog, log.isEmpty() ? libbpf : log);
        }
        loaded = true;
        logBuf = null;
    }

    /**
     * libbpf unloads every program when one fails, so fds cannot tell which; its warning
     * "prog 'NAME': failed to load" can.
     */
    private static String failedProgram(List<String> libbpfMessages) {
        for (String line : libbpfMessages) {
            Matcher m = FAILED_PROGRAM.matcher(line);
            if (m.find()) {
                return m.group(1);
            }
        }
        return "";
    }

    private static List<String> tail(String log) {
        List<String> lines = new ArrayList<>(Arrays.asList(log.split("\n")));
        lines.removeIf(String::isBlank);
        return lines.subList(Math.max(0, lines.size() - VERIFIER_LOG_TAIL_LINES), lines.size());
    }

    private static String libbpfSays() {
        List<String> lines = LibBpfLog.drain();
        return lines.isEmpty() ? "" : " (libbpf: " + String.join(" | ", lines) + ")";
    }

    /** Whether {@link #load()} succeeded. */
    public boolean isLoaded() {
        return loaded;
    }

    /** The program whose C function is {@code programName}. */
    public BpfProgram program(String programName) {
        ensureOpen();
        Pointer p = LibBpf.bpfObjectFindProgramByName(obj, programName);
        if (p == null) {
            throw new IllegalArgumentException("no program " + programName + " in " + name);
        }
        return new BpfProgram(this, p, programName);
    }

    /** Every program in the object, in ELF order. */
    public List<BpfProgram> programs() {
        ensureOpen();
        List<BpfProgram> out = new ArrayList<>();
        for (Pointer p = LibBpf.bpfObjectNextProgram(obj, null); p != null; p = LibBpf.bpfObjectNextProgram(obj, p)) {
            out.add(new BpfProgram(this, p, LibBpf.bpfProgramName(p)));
        }
        return out;
    }

    /** The map called {@code mapName} (for globals: ".rodata", ".bss", ".data"). */
    public BpfMap map(String mapName) {
        ensureOpen();
        Pointer m = LibBpf.bpfObjectFindMapByName(obj, mapName);
        if (m == null) {
            throw new IllegalArgumentException("no map " + mapName + " in " + name);
        }
        return new BpfMap(this, m, mapName);
    }

    /** Attaches every loaded program by its SEC() name (tracepoint/..., raw_tp/..., uprobe/...). */
    public List<BpfLink> attachAll() {
        List<BpfLink> out = new ArrayList<>();
        for (BpfProgram p : programs()) {
            if (p.autoload()) {
                out.add(p.attach());
            }
        }
        return out;
    }

    /** Records a link so {@link #close()} detaches it. */
    <T extends BpfLink> T own(T link) {
        synchronized (links) {
            links.add(link);
        }
        return link;
    }

    void ensureOpen() {
        if (obj == null) {
            throw new IllegalStateException("BPF object " + name + " is closed");
        }
    }

    void ensureLoaded() {
        ensureOpen();
        if (!loaded) {
            throw new IllegalStateException("BPF object " + name + " is not loaded; call load() first");
        }
    }

    /** Detaches every link (newest first) and frees the object. Idempotent. */
    @Override
    public void close() {
        if (obj == null) {
            return;
        }
        List<BpfLink> toClose;
        synchronized (links) {
            toClose = new ArrayList<>(links);
            links.clear();
        }
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
        LibBpf.bpfObjectClose(obj);
        obj = null;
        logBuf = null;
        // elf and objectName stay reachable until here: libbpf may refer to them until close.
        Reference.reachabilityFence(elf);
        Reference.reachabilityFence(objectName);
    }
}
