package rsuota.fleet.domain;

import java.util.List;

/**
 * What a cohort filter resolves to for a release: the members it would take, in id order, and
 * every matched device left out with its reason.
 */
public record CohortResolution(List<String> members, List<Exclusion> excluded) {
    public CohortResolution {
        members = List.copyOf(members);
        excluded = List.copyOf(excluded);
    }

    /** Devices the variant matrix blocks: a rollout plan lists these. */
    public List<Exclusion.IncompatibleVariant> blocked() {
        return excluded.stream().filter(e -> e instanceof Exclusion.IncompatibleVariant)
                .map(e -> (Exclusion.IncompatibleVariant) e).toList();
    }
}
