"""Stage 1a, event generation: the toy g b -> H b (H -> b b-bar) and QCD 2->2 generator and its pieces, and the Pythia 8
backend (`pythia`, with the event-record ancestry in `record`); both return `events.GeneratedEvents`."""
