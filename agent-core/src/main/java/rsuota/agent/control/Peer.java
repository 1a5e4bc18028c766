package rsuota.agent.control;

/**
 * Who is on the other end of a control connection, from the kernel ({@code SO_PEERCRED}), never
 * from anything the client says: the user and the group the process ran as when it connected.
 */
public record Peer(String user, String group) {
    /** The actor reported upstream for what this peer does: {@code technician:<unix user>}. */
    public String actor() {
        return "technician:" + user;
    }
}
