from django.urls import path

from .views import board, cases

app_name = "acct"
urlpatterns = [
    # --- one person's ACCT (views/cases.py) ---
    path("people/<str:prison_number>/", cases.case, name="case"),
    path("people/<str:prison_number>/concern/", cases.raise_concern, name="raise_concern"),
    path("people/<str:prison_number>/iap/", cases.record_iap, name="record_iap"),
    path(
        "people/<str:prison_number>/assessment/",
        cases.record_assessment,
        name="record_assessment",
    ),
    path("people/<str:prison_number>/review/", cases.hold_review, name="hold_review"),
    path(
        "people/<str:prison_number>/post-closure-review/",
        cases.post_closure_review,
        name="post_closure_review",
    ),
    path("people/<str:prison_number>/reopen/", cases.reopen, name="reopen"),
    path("people/<str:prison_number>/entries/new/", cases.record_entry, name="record_entry"),
    path(
        "people/<str:prison_number>/entries/<uuid:entry_id>/correct/",
        cases.correct_entry,
        name="correct_entry",
    ),
    path("people/<str:prison_number>/demand-review/", cases.demand_review, name="demand_review"),
    path(
        "people/<str:prison_number>/safer-cell-decision/",
        cases.safer_cell_decision,
        name="safer_cell_decision",
    ),
    # --- the wing safety board, tasks and reports (views/board.py) ---
    # rows/ and handover/ come before <wing_code>/ so they are never read as wing codes.
    path("board/", board.board, name="board"),
    path("board/rows/", board.board_rows, name="board_rows"),
    path("board/handover/", board.handover, name="handover"),
    path("board/<str:wing_code>/", board.wing_board, name="wing_board"),
    path("tasks/", board.tasks, name="tasks"),
    path("tasks/<uuid:task_id>/complete/", board.complete_task, name="complete_task"),
    path("safe-cells/", board.safe_cells, name="safe_cells"),
    path("estate/", board.estate, name="estate"),
]
