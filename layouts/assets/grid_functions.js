// Functions the grids name in their column definitions ({"function": "serverOrder"}). dash-ag-grid
// evaluates a {"function": ...} string without eval; a function written inline needs eval, which the
// page's Content-Security-Policy forbids (callbacks/headers.py), so grids name these instead.
window.dashAgGridFunctions = Object.assign({}, window.dashAgGridFunctions, {
    // The server orders the rows (callbacks/pivot.py): every pair compares equal, so a header click
    // keeps the order sent (AG Grid's sort is stable).
    serverOrder: function () { return 0; },
});
