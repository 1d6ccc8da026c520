"""Plans: the action-plan model, importers for published documents, revisions and exports."""
