package io.periscope.ebpf.internal;

import com.sun.jna.Callback;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * JNA direct mapping of the system libbpf ({@code libbpf.so.1}, Debian package libbpf1, API of
 * libbpf 1.x: pointer-returning calls give NULL and set errno; int-returning ones give -errno).
 * Setup only: nothing here is called per event.
 */
public final class LibBpf {
    /** {@code LIBBPF_STRICT_ALL} from libbpf_legacy.h. */
    private static final int LIBBPF_STRICT_ALL = 0xffffffff;

    private static final Throwable UNAVAILABILITY_CAUSE;

    static {
        // periscope.libbpf names another build of libbpf (tests use it to check the missing-library error).
        Throwable cause = NativeBinding.register(LibBpf.class, System.getProperty("periscope.libbpf", "libbpf.so.1"));
        if (cause == null) {
            try {
                // Strict (1.0) semantics: NULL+errno / -errno errors, no RLIMIT_MEMLOCK bump when
                // the kernel charges BPF memory to the memcg (>= 5.11), which matters because we
                // lack CAP_SYS_RESOURCE. (libbpf_set_memlock_rlim is declared by 1.1.2's bpf.h
                // but not exported, so we cannot bind it.)
                libbpfSetStrictMode(LIBBPF_STRICT_ALL);
                LibBpfLog.install();
            } catch (UnsatisfiedLinkError | RuntimeException e) {
                cause = e;
            }
        }
        UNAVAILABILITY_CAUSE = cause;
    }

    private LibBpf() {
    }

    /** Whether libbpf was found and bound. */
    public static boolean isAvailable() {
        return UNAVAILABILITY_CAUSE == null;
    }

    /** Why libbpf cannot be used, or null. */
    public static Throwable unavailabilityCause() {
        return UNAVAILABILITY_CAUSE;
    }

    /** Throws a one-line, actionable error when libbpf is missing. */
    public static void ensureAvailable() {
        if (UNAVAILABILITY_CAUSE != null) {
            throw new IllegalStateException("libbpf (libbpf.so.1) could not be loaded: "
                    + firstLine(UNAVAILABILITY_CAUSE.getMessage())
                    + "; install it (apt-get install libbpf1) or point jna.library.path at it",
                    UNAVAILABILITY_CAUSE);
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unknown error";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** {@code libbpf_print_fn_t}: level, format, va_list. */
    public interface PrintFn extends Callback {
        /** Called by libbpf for each message. */
        int invoke(int level, String format, Pointer args);
    }

    // --- global ---------------------------------------------------------------------------
    @Symbol("libbpf_set_strict_mode")
    static native int libbpfSetStrictMode(int mode);

    @Symbol("libbpf_set_print")
    static native Pointer libbpfSetPrint(PrintFn fn);

    @Symbol("libbpf_major_version")
    public static native int libbpfMajorVersion();

    @Symbol("libbpf_minor_version")
    public static native int libbpfMinorVersion();

    /** Number of possible CPUs (size of per-CPU map values), or -errno. */
    @Symbol("libbpf_num_possible_cpus")
    public static native int libbpfNumPossibleCpus();

    // --- object ---------------------------------------------------------------------------
    @Symbol("bpf_object__open_mem")
    public static native Pointer bpfObjectOpenMem(Pointer buf, long size, Pointer opts);

    @Symbol("bpf_object__load")
    public static native int bpfObjectLoad(Pointer obj);

    @Symbol("bpf_object__close")
    public static native void bpfObjectClose(Pointer obj);

    @Symbol("bpf_object__name")
    public static native String bpfObjectName(Pointer obj);

    @Symbol("bpf_object__btf")
    public static native Pointer bpfObjectBtf(Pointer obj);

    @Symbol("bpf_object__next_program")
    public static native Pointer bpfObjectNextProgram(Pointer obj, Pointer prev);

    @Symbol("bpf_object__next_map")
    public static native Pointer bpfObjectNextMap(Pointer obj, Pointer prev);

    @Symbol("bpf_object__find_program_by_name")
    public static native Pointer bpfObjectFindProgramByName(Pointer obj, String name);

    @Symbol("bpf_object__find_map_by_name")
    public static native Pointer bpfObjectFindMapByName(Pointer obj, String name);

    // --- program --------------------------------------------------------------------------
    @Symbol("bpf_program__name")
    public static native String bpfProgramName(Pointer prog);

    @Symbol("bpf_program__section_name")
    public static native String bpfProgramSectionName(Pointer prog);

    @Symbol("bpf_program__fd")
    public static native int bpfProgramFd(Pointer prog);

    @Symbol("bpf_program__autoload")
    public static native boolean bpfProgramAutoload(Pointer prog);

    @Symbol("bpf_program__set_autoload")
    public static native int bpfProgramSetAutoload(Pointer prog, boolean autoload);

    @Symbol("bpf_program__set_log_buf")
    public static native int bpfProgramSetLogBuf(Pointer prog, Pointer buf, long size);

    @Symbol("bpf_program__attach")
    public static native Pointer bpfProgramAttach(Pointer prog);

    @Symbol("bpf_program__attach_tracepoint")
    public static native Pointer bpfProgramAttachTracepoint(Pointer prog, String category, String name);

    @Symbol("bpf_program__attach_raw_tracepoint")
    public static native Pointer bpfProgramAttachRawTracepoint(Pointer prog, String name);

    @Symbol("bpf_program__attach_kprobe")
    public static native Pointer bpfProgramAttachKprobe(Pointer prog, boolean retprobe, String function);

    @Symbol("bpf_program__attach_uprobe_opts")
    public static native Pointer bpfProgramAttachUprobeOpts(Pointer prog, int pid, String binaryPath,
            long funcOffset, Pointer opts);

    @Symbol("bpf_obj_get_info_by_fd")
    public static native int bpfObjGetInfoByFd(int fd, byte[] info, int[] infoLen);

    // --- link -----------------------------------------------------------------------------
    @Symbol("bpf_link__destroy")
    public static native int bpfLinkDestroy(Pointer link);

    // --- map ------------------------------------------------------------------------------
    @Symbol("bpf_map__name")
    public static native String bpfMapName(Pointer map);

    @Symbol("bpf_map__fd")
    public static native int bpfMapFd(Pointer map);

    @Symbol("bpf_map__type")
    public static native int bpfMapType(Pointer map);

    @Symbol("bpf_map__key_size")
    public static native int bpfMapKeySize(Pointer map);

    @Symbol("bpf_map__value_size")
    public static native int bpfMapValueSize(Pointer map);

    @Symbol("bpf_map__max_entries")
    public static native int bpfMapMaxEntries(Pointer map);

    @Symbol("bpf_map__set_max_entries")
    public static native int bpfMapSetMaxEntries(Pointer map, int maxEntries);

    @Symbol("bpf_map__initial_value")
    public static native Pointer bpfMapInitialValue(Pointer map, long[] size);

    @Symbol("bpf_map__is_internal")
    public static native boolean bpfMapIsInternal(Pointer map);

    @Symbol("bpf_map_lookup_elem")
    public static native int bpfMapLookupElem(int fd, byte[] key, byte[] value);

    @Symbol("bpf_map_update_elem")
    public static native int bpfMapUpdateElem(int fd, byte[] key, byte[] value, long flags);

    @Symbol("bpf_map_delete_elem")
    public static native int bpfMapDeleteElem(int fd, byte[] key);

    @Symbol("bpf_map_get_next_key")
    public static native int bpfMapGetNextKey(int fd, byte[] key, byte[] nextKey);

    // --- BTF ------------------------------------------------------------------------------
    @Symbol("btf__find_by_name_kind")
    public static native int btfFindByNameKind(Pointer btf, String name, int kind);

    @Symbol("btf__type_by_id")
    public static native Pointer btfTypeById(Pointer btf, int id);

    @Symbol("btf__name_by_offset")
    public static native String btfNameByOffset(Pointer btf, int offset);

    // --- tc -------------------------------------------------------------------------------
    @Symbol("bpf_tc_hook_create")
    public static native int bpfTcHookCreate(Pointer hook);

    @Symbol("bpf_tc_hook_destroy")
    public static native int bpfTcHookDestroy(Pointer hook);

    @Symbol("bpf_tc_attach")
    public static native int bpfTcAttach(Pointer hook, Pointer opts);

    @Symbol("bpf_tc_detach")
    public static native int bpfTcDetach(Pointer hook, Pointer opts);

    // --- errors ---------------------------------------------------------------------------
    @Symbol("libbpf_strerror")
    static native int libbpfStrerror(int err, byte[] buf, long size);

    /** libbpf's text for an error code (positive or negative). */
    public static String strerror(int err) {
        byte[] buf = new byte[128];
        libbpfStrerror(Math.abs(err), buf, buf.length);
        return Native.toString(buf);
    }
}
