package rsuota.fleet.api;

import rsuota.fleet.domain.FleetException;

/** One REST operation. Runs only after authentication and the route's role check passed. */
@FunctionalInterface
public interface Endpoint {
    Reply handle(Call call) throws FleetException;
}
