"""Document sharing's server side: sniff, check and convert files outside the event loop."""
