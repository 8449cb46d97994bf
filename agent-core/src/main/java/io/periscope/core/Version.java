package io.periscope.core;

/** The agent's version, from the jar manifest (or "dev" when run from classes). */
final class Version {
    private Version() {
    }

    static String current() {
        String version = Main.class.getPackage().getImplementationVersion();
        return version == null ? "dev" : version;
    }
}
