package rsuota.fleet.device;

import java.util.Locale;
import java.util.Optional;

/** Inventory file formats {@link InventoryParser} reads. */
public enum InventoryFormat {
    /** Header line naming the columns (id, variant, region, corridor, site, tags); tags separated by ';'. */
    CSV,
    /** An array of device objects, or an object whose "devices" field is that array. */
    JSON;

    /** From an HTTP content type ("text/csv; charset=utf-8") or a file name ("fleet.csv"). */
    public static Optional<InventoryFormat> guess(String contentTypeOrName) {
        if (contentTypeOrName == null) return Optional.empty();
        String s = contentTypeOrName.toLowerCase(Locale.ROOT);
        if (s.contains("csv")) return Optional.of(CSV);
        if (s.contains("json")) return Optional.of(JSON);
        return Optional.empty();
    }
}
