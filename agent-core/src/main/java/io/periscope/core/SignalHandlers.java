package io.periscope.core;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * Turns SIGTERM and SIGINT into an orderly stop, so the agent detaches, flushes and exits 0
 * instead of dying with 143 from the JVM's default handler; and SIGHUP into a config reload.
 *
 * <p>{@code sun.misc.Signal} is reached by reflection: it is the only JDK way to handle a signal,
 * and naming it directly is a compiler warning (internal API) that our -Werror build rejects.
 */
final class SignalHandlers {
    private SignalHandlers() {
    }

    static void onTermination(Runnable action) {
        for (String signal : new String[] {"TERM", "INT"}) {
            if (!install(signal, action)) {
                // Without the hook the JVM's own handler still stops us; only the exit code differs.
                Runtime.getRuntime().addShutdownHook(new Thread(action, "periscope-shutdown"));
            }
        }
    }

    /** Runs {@code action} on SIGHUP (reload); false when the JVM does not let us handle it. */
    static boolean onHangup(Runnable action) {
        return install("HUP", action);
    }

    private static boolean install(String signalName, Runnable action) {
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerInterface = Class.forName("sun.misc.SignalHandler");
            Object signal = signalClass.getConstructor(String.class).newInstance(signalName);
            InvocationHandler invocation = (Object proxy, Method method, Object[] args) -> {
                if (method.getName().equals("handle")) {
                    action.run();
                }
                return null;
            };
            Object handler = Proxy.newProxyInstance(SignalHandlers.class.getClassLoader(),
                    new Class<?>[] {handlerInterface}, invocation);
            signalClass.getMethod("handle", signalClass, handlerInterface).invoke(null, signal, handler);
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }
}
