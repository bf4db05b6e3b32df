"""Other boxes' engines over the network, and our own engines for them.

`endpoint` (the settings every remote engine shares: where it is and how long to wait),
`connection` (a Wyoming client connection used from the satellite's threads: one event loop
in the background, connect and response timeouts, reconnection), `frames` (reading Wyoming
events from a peer we do not trust: sizes checked before anything is buffered).

The protocol is the `wyoming` package's (events, their types and their writer); only the
reading side of a server has its own guard, because `wyoming.event.async_read_event` buffers
whatever length a peer announces.
"""
