package io.periscope.ebpf.internal;

import com.sun.jna.FunctionMapper;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;

import java.util.Map;

/** Registers a class's native methods against a shared library, naming symbols by {@link Symbol}. */
final class NativeBinding {
    private NativeBinding() {
    }

    private static final FunctionMapper BY_ANNOTATION = (library, method) -> {
        Symbol symbol = method.getAnnotation(Symbol.class);
        return symbol != null ? symbol.value() : method.getName();
    };

    /**
     * Binds {@code type}'s native methods, or returns why it could not (library missing, symbol
     * missing): the caller turns that into an availability cause rather than failing class init.
     */
    static Throwable register(Class<?> type, String library) {
        try {
            NativeLibrary lib = NativeLibrary.getInstance(library,
                    Map.of(Library.OPTION_FUNCTION_MAPPER, BY_ANNOTATION));
            Native.register(type, lib);
            return null;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return e;
        }
    }
}
