// The two contracts the app is written against, each with two implementations:
// in the browser (IndexedDB, store.js; the recipe in a worker, trainer.js) and over a
// project folder (HTTP to `pocketvision studio`, project-store.js and
// server-trainer.js). tests/system/test_store_contract.py runs the same cases
// against both in Chromium.
//
// STORE: the project's classes and pictures, their features, and the model.
//   project()                  -> [{id, name, pictures: [{id, name, sha256, ...}]}],
//                                 classes and pictures sorted by name (code point)
//   addClass(name)             -> id; a StoreError for a name the class-name rule
//                                 refuses or a class already has
//   renameClass(id, name)      -> (nothing); the same refusals
//   addPictures(id, pictures)  -> how many were added; pictures: [{name, blob,
//                                 sha256, dhash, width, height}], a name the class
//                                 already has is skipped
//   blobs(ids)                 -> [Blob] (the JPEG bytes), in the order asked
//   deleteClass(id), deletePicture(id) -> a mark: {key, kind, id} (a class's also
//                                 record: {name}); what it marks is hidden at once
//   restore(mark)              -> the name a class came back under ("name (2)" when
//                                 its name was taken since), null for a picture
//   purge(mark)                -> (nothing); the deletion is final, where the store
//                                 deletes at all (a project folder keeps its .trash)
//   trash()                    -> marks whose deletion is not final yet
//   features(keys), putFeatures([{key, vector}]) -> feature vectors by key, null
//                                 where none is kept (a store may keep none)
//   model()                    -> {bytes, summary, play, fromSite} or null
//   saveModel(bytes, summary, play, fromSite) -> (nothing); the caller has checked
//                                 that the model plays (bundle-file.playableModel)
//   onChange                   -> set to (what) => {} to hear of other tabs' changes
//
// TRAINER: train(onProgress(phase, done, total)) -> {bytes, summary, computed,
//   seconds}: a .pvb trained on the store's project, checked as playable and saved
//   as the store's model before it returns; a TrainError says what to fix.

export const STORE_METHODS = ["project", "addClass", "renameClass", "addPictures", "blobs",
  "deleteClass", "deletePicture", "restore", "purge", "trash", "features", "putFeatures",
  "model", "saveModel"];
export const TRAINER_METHODS = ["train"];

// What a store throws for a change it refuses or could not make: its message is a
// sentence for the person (nothing was changed).
export class StoreError extends Error {}

// What a trainer throws when the project cannot be trained: a sentence saying what to
// fix (more pictures, another class, ...).
export class TrainError extends Error {}
