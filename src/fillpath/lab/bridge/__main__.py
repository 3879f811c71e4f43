"""``python -m fillpath.lab.bridge --config FILE --port N``: the lab bridge's relayer (the lab starts it)."""

from fillpath.lab.bridge.relayer import main

main()
