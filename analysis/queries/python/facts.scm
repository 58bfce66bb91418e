; Python facts for Autoscope.
; Capture names follow tree-sitter's tags.scm (`@definition.*`, `@reference.*`, `@name`);
; the extra captures (`@import.*`, `@constant.value`, `@class.*`, `@function.*`,
; `@call.*`, `@local.*`, `@handler.*`, `@exit.*`) carry what tags.scm does not.
; The pattern's "main" capture (the one on the outer node) tells the extractor what it is.

; import a.b   /   import a.b as c   (one match per imported module)
(import_statement
  name: [
    (dotted_name) @import.path
    (aliased_import
      name: (dotted_name) @import.path
      alias: (identifier) @import.alias)
  ]) @reference.import

; from x import y as z   (the names are read by the extractor)
(import_from_statement
  module_name: (_) @import.path) @reference.import_from

; X = "..." at module level or in a class body (the extractor checks where)
(expression_statement
  (assignment
    left: (identifier) @name
    right: (string) @constant.value)) @definition.constant

; class Order(Base): ...
(class_definition
  name: (identifier) @name
  superclasses: (argument_list)? @class.bases
  body: (block) @class.body) @definition.class

; def f(...): ...
(function_definition
  name: (identifier) @name
  parameters: (parameters) @function.params
  body: (block) @function.body) @definition.function

; f(x), a.b.f(x)
(call
  function: [
    (identifier) @name
    (attribute
      object: (_) @call.receiver
      attribute: (identifier) @name)
  ]
  arguments: (_) @call.arguments) @reference.call

; x = requests.Session()   /   x: Session = ...
(assignment
  left: (identifier) @name
  right: (_) @local.value) @definition.local

; self.session = requests.Session()   (an attribute of the enclosing class)
(assignment
  left: (attribute
    object: (identifier) @_self
    attribute: (identifier) @name)
  right: (_) @local.value
  (#eq? @_self "self")) @definition.attribute

; with Session(engine) as session:
(with_item
  value: (as_pattern
    (_) @local.value
    alias: (as_pattern_target
      (identifier) @name))) @definition.with

; try: ... except (A, B) as e: ...
(except_clause) @handler.except

; raise X
(raise_statement) @exit.raise
