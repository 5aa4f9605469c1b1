// Package catalog is Strata's filesystem catalog: the warehouse layout
// <warehouse>/<db>.db/<table>/, validated database and table names, and
// creating, opening, listing and dropping tables and databases.
package catalog
