"""Pure routing: snapshot + request → plan. No I/O, no clock, no database."""
