package io.periscope.core;

import java.io.PrintStream;

/** Lets tests in other packages run the command line in-process. */
public final class MainAccess {
    private MainAccess() {
    }

    public static int execute(String[] args, PrintStream out, PrintStream err) {
        return Main.execute(args, out, err);
    }
}
