package io.periscope.sender;

import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waits for a condition that eventual delivery will make true; fails with a description if it never does. */
final class Await {
    /** Generous: only a broken exporter takes this long (the machine is shared and slow). */
    private static final long LIMIT_MILLIS = 60_000;

    private Await() {
    }

    static void until(BooleanSupplier condition, Supplier<String> state) throws InterruptedException {
        long deadline = System.currentTimeMillis() + LIMIT_MILLIS;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("condition not reached; state: " + state.get());
            }
            Thread.sleep(10);
        }
    }
}
