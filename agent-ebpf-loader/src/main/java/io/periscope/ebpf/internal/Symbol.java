package io.periscope.ebpf.internal;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** The C symbol a direct-mapped native method binds to (Java names stay camelCase). */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Symbol {
    /** The exported C function name. */
    String value();
}
