from saferprisons.core.permissions import define

VIEW_ESTATE = define("estate.view", "See wings, cells and occupancy in your prisons")
MANAGE_ESTATE = define("estate.manage", "Change locations, capacities and cell certification")
VIEW_AGGREGATES = define("estate.view_aggregates", "See estate-wide counts (no names)")
