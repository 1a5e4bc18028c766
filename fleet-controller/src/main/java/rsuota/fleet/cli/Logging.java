package rsuota.fleet.cli;

/** Points logback at this module's configuration before the first logger exists. */
public final class Logging {
    private Logging() {}

    /** Call first in every main(); an explicit -Dlogback.configurationFile still wins. */
    public static void configure() {
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "fleet-controller-logback.xml");
        }
    }
}
