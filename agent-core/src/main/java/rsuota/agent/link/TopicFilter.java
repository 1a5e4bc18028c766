package rsuota.agent.link;

/** MQTT topic filter matching ({@code +} one level, {@code #} the rest), for dispatching to handlers. */
final class TopicFilter {

    private TopicFilter() {}

    static boolean matches(String filter, String topic) {
        String[] f = filter.split("/", -1);
        String[] t = topic.split("/", -1);
        for (int i = 0; i < f.length; i++) {
            if (f[i].equals("#")) return true;
            if (i >= t.length) return false;
            if (!f[i].equals("+") && !f[i].equals(t[i])) return false;
        }
        return f.length == t.length;
    }
}
