package rsuota.fleet.audit;

/**
 * The outcome of checking the chain.
 *
 * @param ok          true when every entry links to its predecessor and its hash matches its content
 * @param entries     how many entries were checked
 * @param firstBroken seq of the first entry that fails (null when ok): everything before it is intact
 * @param problem     what is wrong with that entry (null when ok)
 * @param head        hash of the last intact entry (the genesis value for an empty log); publish it
 *                    elsewhere to detect a truncated or wholly rewritten log later
 */
public record AuditVerification(boolean ok, long entries, Long firstBroken, String problem, String head) {}
